"""Applying a plan: dependency order, batched writes, outcomes per change."""
