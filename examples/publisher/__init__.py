"""An example publisher: turns ContentReadyForReview events into published articles."""
