"""The engine: topology documents to kernel state and back. Knows nothing of Django.

Layers (see docs/ARCHITECTURE.md): model + validation + plan are pure; the executor, observer and
diagnostics touch the kernel through a backend passed in. `topology.engine.api` is the facade the
rest of the project calls.
"""
