"""The scheduler's pure rules: when a site's scheduled run is due."""
