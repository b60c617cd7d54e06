"""Baselines that produce instance sets without IAMs."""
