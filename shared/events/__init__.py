"""Wire schemas shared by every service: commands, events, topics."""
