"""Configuration as code: apply a YAML file declaratively, export the running configuration."""
