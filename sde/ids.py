"""CCP's id ranges: which kind of thing a location id names (plain constants, no Django, so
the demo market generator and the stand-ins can use them outside the app)."""

REGION_IDS = range(10_000_000, 14_000_000)
SYSTEM_IDS = range(30_000_000, 34_000_000)
STATION_IDS = range(60_000_000, 64_000_000)
STRUCTURE_ID_MIN = 1_000_000_000_000  # Upwell structures, from here on
