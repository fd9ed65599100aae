import { describeExample } from '../readme/describe-example';

describeExample('loss-dino');
