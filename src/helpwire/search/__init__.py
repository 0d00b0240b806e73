"""Full-text search over subjects, comments and file names, per dialect."""
