"""The kernel: settings, texts, clock, database session, domain errors, money and periods.

Every layer may import it; it imports no other package of salesbot."""
