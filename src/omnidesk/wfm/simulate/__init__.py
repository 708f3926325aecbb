"""The contact-centre simulator: seeded discrete events routed by the real engine."""
