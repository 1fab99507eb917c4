//! (chapter in progress)
