"""Controller node: sources, aggregation, publishing, scenarios, tours, HTTP control surface."""
