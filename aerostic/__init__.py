"""Aerostic: a self-hostable WhatsApp Business SaaS. This package is the project frame (settings, the
URL maps, the worker and scheduler table, seed_demo): it names every app and no app imports it.
aerostic.core, inside it, is the bottom layer that imports no app."""
