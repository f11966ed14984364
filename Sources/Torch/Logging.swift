import Logging

/// The Torch module's logger (`torchswift.torch`): the library never prints; an application chooses where
/// messages go with `LoggingSystem.bootstrap` (the `torchswift` CLI prints them as before).
let torchLogger = Logger(label: "torchswift.torch")
