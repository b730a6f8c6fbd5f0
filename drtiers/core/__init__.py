"""The floor: tiers, stack roles and tags, durations, figures and prices, and the AWS
behaviours drtiers relies on. Imports nothing of drtiers."""
