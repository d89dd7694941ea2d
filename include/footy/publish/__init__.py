"""Publishing kept clips to chat channels: the message a fan would write, which channels a
goal goes to, and the exactly-once record of every send (``footy.store.publications``)."""
