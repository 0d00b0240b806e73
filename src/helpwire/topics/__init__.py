"""Topics and subtopics with localized names."""
