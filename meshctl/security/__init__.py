"""What the mesh does to each connection: effective mTLS and authorization, from the model."""
