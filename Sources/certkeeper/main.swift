import CertkeeperCLI

CertkeeperCommand.runAsProcess()
