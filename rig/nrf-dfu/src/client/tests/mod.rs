//! Pure tests of the client: resume planning, transfer checks, messages.
mod resume;
mod messages;
mod props;
