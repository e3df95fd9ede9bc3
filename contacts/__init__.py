"""Contacts: communes, directory, rosters and audiences. Never imports `crisis`."""
