using SiteWatch.Cli;

return SiteWatchApp.Run(args);
