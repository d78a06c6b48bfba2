"""Layout files (walls, scenarios) as typed, frozen objects; problems by file, line and field."""
