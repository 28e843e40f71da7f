//! The national inventory (état des lieux) for the Government. Written next.
