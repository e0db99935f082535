"""R8: resolve who is who across customer records, then group attempts into purchases."""
