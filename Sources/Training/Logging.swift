import Logging

/// The Training module's logger (`torchswift.training`): `FineTuner` reports through it unless given its own
/// `log`; an application chooses where messages go with `LoggingSystem.bootstrap`.
let trainingLogger = Logger(label: "torchswift.training")
