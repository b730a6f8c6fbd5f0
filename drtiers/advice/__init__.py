"""Advice that synthesizes what it weighs: the cheapest configuration meeting targets, and
synth-time targets."""
