"""Review reports: what a design review and a game day need, rendered from the cloud assembly."""
