"""Live state: what the tenant holds, read in bulk for the areas the desired state manages."""
