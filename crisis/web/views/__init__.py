"""Pure view models of the dashboard: what each page shows, computed from the crisis."""
