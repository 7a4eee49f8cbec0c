"""The application round of the trial (scheme.md §2): calls, applications, the directorate's
assessment against the requirements, offers and acceptance — an accepted offer becomes the
participation record the engine reads. `rules` holds the rules, `service` the store's side,
`schema` the tables; the pages are in `sio.web.application_round_pages`."""
