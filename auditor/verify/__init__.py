"""Checking a report against the database (`manifest`) and a PDF report on its own (`pdf`)."""
