"""Plans as data: changes with the facts they depend on, errors, limits, the plan file."""
