//! Configuration: the YAML file, its defaults and its validation.
