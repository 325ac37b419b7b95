"""Text signals for text features: language, code-switching and the labelled corpus they are measured on."""
