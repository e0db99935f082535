"""R14: every settlement line and every order of a window ends in exactly one state."""
