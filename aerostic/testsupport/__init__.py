"""Models that exist only in tests (installed by aerostic.settings_test)."""
