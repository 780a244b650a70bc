"""The job kinds, one class each (registered in topology/jobs/registry.py)."""
