use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(ftpmirror::main_with_args(std::env::args_os()))
}
