"""Importers: bring another registry's models along (``modelreg import mlflow``)."""
