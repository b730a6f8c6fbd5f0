"""The only reader of a synthesized cloud assembly (cdk.out): its tiers, and the World each
tier deploys."""
