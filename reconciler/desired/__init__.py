"""Desired state: tenant folders read from YAML into typed values, with locations."""
