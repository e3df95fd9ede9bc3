"""The read side for the web and the CLI: each module answers one kind of question from the
store (board, reading sheet, open crises, link status), never writes."""
