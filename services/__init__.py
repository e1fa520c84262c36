"""Domain logic: plain values in, result objects out; never imports telegram."""
