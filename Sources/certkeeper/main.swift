import CertkeeperCLI

await CertkeeperCommand.runFromCommandLine()
