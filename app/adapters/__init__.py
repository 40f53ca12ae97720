"""Entry points for AWS Lambda: each module is a few lines around ``create_app``."""
