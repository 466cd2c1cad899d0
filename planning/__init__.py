"""Planning domain of Beatplan: travel times, patrol routes, briefings, impact and tracking."""
