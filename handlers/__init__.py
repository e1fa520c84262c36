"""Telegram glue: parse the update, check the sender, call a service, render the reply."""
