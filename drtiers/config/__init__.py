"""Context and the workload file, read once into one typed DrConfig."""
