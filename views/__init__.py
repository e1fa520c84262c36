"""What people see: pure functions from plain data to text and buttons in the reader's language,
the callback-data codecs of the buttons, and Telegram's limits. A view never queries."""
