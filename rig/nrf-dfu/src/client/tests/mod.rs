//! Pure tests of the client: resume planning, transfer checks, messages.
mod image;
mod messages;
mod props;
mod resume;
