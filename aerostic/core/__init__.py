"""Cross-cutting pieces every app uses: tenancy, crypto, jobs, API base classes, logging."""
