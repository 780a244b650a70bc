"""Business rules of the web tier: every change to a lab goes through a function here.

Functions take keyword-only typed arguments and are named `<entity>_<action>`; views, API handlers,
admin actions and the `lab` command stay thin and call them. Errors are the `ServiceError` family in
`topology.services.errors`, each carrying the HTTP status the API answers with.
"""
