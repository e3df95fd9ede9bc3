"""The provider edges of the web: the CIP's numéro unique and the switchboard's line."""
