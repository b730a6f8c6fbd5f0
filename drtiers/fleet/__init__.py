"""A fleet of applications (drtiers/config/fleet.py): each synthesized, estimated and simulated
as its own tier (runs.py), and each failover group's parent plan run over its applications'
simulations in the group's order (parent.py)."""
